"""Proposals (lines of work), their discussion, translations, moderation and merging."""

"""Accounts for organisers and facilitators, and the login of every kind of participant."""

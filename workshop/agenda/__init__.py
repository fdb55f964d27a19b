"""Workshops, their agenda of steps, organisations and delegates."""

"""Deadlines and time: the deadline grammar, calendars, recurrence, a question's time window."""

"""The `planbot` command line: the composition root above bot/, indexer/ and reminders/."""

"""`python -m planbot` runs the `planbot` command."""

from planbot.cli import main

main()

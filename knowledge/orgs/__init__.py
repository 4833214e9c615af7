"""Agencies: the registry, the static list, the doer patterns, a question's and a plan's names."""

"""Pure domain logic for planbot: parsing plans, deadlines, agency names, answers.

Nothing in this package touches the network, the database or the clock: callers pass
text in and ``now`` where time matters.
"""

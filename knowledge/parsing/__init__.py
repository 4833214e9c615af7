"""Reading a plan's text: layout, sections, task blocks, duties and their doers, the plan's header."""

"""Reading a plan's tables: cells, header layout, row segments."""

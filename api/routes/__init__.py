"""One router per resource: runs, plans, validation, system."""

"""`vatio check`: the guide's §5.1 checklist run against a project and its recorded runs."""

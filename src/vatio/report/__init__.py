"""Reports of recorded runs (HTML, Markdown, JSON, EU AI Act Annex XI) and the §5.1 checklist.

Nothing heavy is imported here: matplotlib loads only when a plot is drawn,
torch only when FLOPs are counted, so `vatio --help` stays fast.
"""

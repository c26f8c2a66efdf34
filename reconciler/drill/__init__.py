"""Restore drills (issue 15 section 2): the claim of a drill receipt and the run of its steps."""

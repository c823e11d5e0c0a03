"""Demo department, analysis stage: its categories."""

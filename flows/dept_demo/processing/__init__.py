"""Demo department, processing stage: its categories."""

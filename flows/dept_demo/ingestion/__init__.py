"""Demo department, ingestion stage: its categories."""

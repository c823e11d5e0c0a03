"""Category inbox_csv: its flow and tasks."""

"""Category cleaning: its flow and tasks."""

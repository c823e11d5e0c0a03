"""Category training: its flow and tasks."""

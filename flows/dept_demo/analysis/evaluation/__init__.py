"""Category evaluation: its flow and tasks."""

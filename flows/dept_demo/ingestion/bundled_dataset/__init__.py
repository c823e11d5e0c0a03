"""Category bundled_dataset: its flow and tasks."""

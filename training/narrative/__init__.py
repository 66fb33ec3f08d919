"""Training for the narrative sentence classifier (issue 5): data, MLM pretraining, fine-tuning, export."""

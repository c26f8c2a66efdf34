"""Applying a plan: its calls sent in order, one-shot operations behind write-ahead receipts."""

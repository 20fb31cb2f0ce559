"""The matching domain: records, datasets, candidate generation, the servable ranker."""

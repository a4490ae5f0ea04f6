"""The Joint Data Exchange Centre: signed partner messages, need-to-know sharing, a Merkle log."""

"""The tok2vec architectures: functions that compose layers into a Model."""

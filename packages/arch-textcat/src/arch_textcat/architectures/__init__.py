"""The text classification architectures: functions that compose layers into a Model."""

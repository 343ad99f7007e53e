"""The architectures: functions that compose layers into Models."""

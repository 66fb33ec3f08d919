"""gongkai.devtools."""

"""AWS Lambda entry points. Each is thin: parse the event and environment, call the core, answer."""

"""Singer tap for telecom audit and event logs (Twilio Monitor, TaskRouter, Serverless; Telnyx)."""

"""Customer-service console: hub, chat page, agent console, WeChat channel."""

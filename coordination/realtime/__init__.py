"""Socket.IO adapters: authenticate, place in rooms, replay, publish after commit."""

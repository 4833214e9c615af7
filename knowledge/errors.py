"""The one error type meant for users."""


class PlanbotError(Exception):
    """An error whose message is displayed to the user as is (in Vietnamese).

    Library code raises it for bad input (unreadable file, unknown plan, …); the CLI turns
    it into one clean line and the bot into a short reply. Anything else is a bug.
    """

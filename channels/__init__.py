"""What every channel (web chat, WeChat, agent console, voice gateway) shares: it only carries messages.

rasa       the one Rasa client: a customer turn, the stored conversation (read, extend, resume)
knowledge  the one knowledge-service client (also used by the actions and by the NLU component inside Rasa)
phone      phone numbers: national form of a caller ID, masked for display
transcript what a stored conversation (Rasa tracker events) says, turn by turn, for people to read
"""

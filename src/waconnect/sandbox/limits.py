"""What the emulated services accept, as data (from AWS and Meta documentation)."""

from __future__ import annotations

# Amazon Connect chat attachments: default allowed extensions and size.
CONNECT_ATTACHMENT_EXTENSIONS = frozenset(
    {
        ".csv", ".doc", ".docx", ".heic", ".jfif", ".jpeg", ".jpg", ".mov", ".mp4",
        ".pdf", ".png", ".ppt", ".pptx", ".rtf", ".txt", ".wav", ".xls", ".xlsx",
    }
)  # fmt: skip
# The MIME types each default extension is uploaded with (IANA's, plus the common aliases
# browsers and operating systems send): Connect refuses a ContentType its file name disagrees with.
_XLS = "application/vnd.ms-excel"
_OOXML = "application/vnd.openxmlformats-officedocument."
CONNECT_ATTACHMENT_TYPES: dict[str, frozenset[str]] = {
    ".csv": frozenset({"text/csv", "application/csv", _XLS}),
    ".doc": frozenset({"application/msword"}),
    ".docx": frozenset({_OOXML + "wordprocessingml.document"}),
    ".heic": frozenset({"image/heic", "image/heif"}),
    ".jfif": frozenset({"image/jpeg", "image/pjpeg"}),
    ".jpeg": frozenset({"image/jpeg", "image/pjpeg"}),
    ".jpg": frozenset({"image/jpeg", "image/pjpeg"}),
    ".mov": frozenset({"video/quicktime"}),
    ".mp4": frozenset({"video/mp4", "audio/mp4", "application/mp4"}),
    ".pdf": frozenset({"application/pdf"}),
    ".png": frozenset({"image/png"}),
    ".ppt": frozenset({"application/vnd.ms-powerpoint"}),
    ".pptx": frozenset({_OOXML + "presentationml.presentation"}),
    ".rtf": frozenset({"application/rtf", "text/rtf"}),
    ".txt": frozenset({"text/plain"}),
    ".wav": frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}),
    ".xls": frozenset({_XLS}),
    ".xlsx": frozenset({_OOXML + "spreadsheetml.sheet"}),
}
CONNECT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
CONNECT_ATTACHMENTS_PER_CHAT = 35
CONNECT_MAX_ACTIVE_CHATS = 100
# Contact attributes: UTF-8 bytes of every key and value together.
CONNECT_ATTRIBUTES_MAX_BYTES = 32768
# SendMessage's Content, every content type (the current service model: UTF-8 bytes). A chat
# started with StartChatContact is Connect's own chat channel, which has no lower limit.
CHAT_CONTENT_MAX_BYTES = 16384
CONNECT_FIRST_CONNECTION_SECONDS = 5 * 60
CONNECTION_TOKEN_SECONDS = 24 * 60 * 60
DEFAULT_CHAT_MINUTES = 25 * 60
UPLOAD_URL_SECONDS = 5 * 60
STREAMING_TOPICS_PER_CONTACT = 2

TEXT_PLAIN = "text/plain"
TEXT_MARKDOWN = "text/markdown"
INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"
INTERACTIVE_RESPONSE = "application/vnd.amazonaws.connect.message.interactive.response"
CHAT_CONTENT_TYPES = frozenset(
    {TEXT_PLAIN, TEXT_MARKDOWN, "application/json", INTERACTIVE, INTERACTIVE_RESPONSE}
)
EVENT = "application/vnd.amazonaws.connect.event."
TYPING = EVENT + "typing"
DELIVERED = EVENT + "message.delivered"
READ = EVENT + "message.read"
CONNECTION_ACKNOWLEDGED = EVENT + "connection.acknowledged"
PARTICIPANT_JOINED = EVENT + "participant.joined"
PARTICIPANT_LEFT = EVENT + "participant.left"
CHAT_ENDED = EVENT + "chat.ended"
CUSTOMER_EVENT_TYPES = frozenset({TYPING, DELIVERED, READ, CONNECTION_ACKNOWLEDGED})

# WhatsApp (Meta Cloud API) media accepted for sending, by message type.
WHATSAPP_TEXT_MAX = 4096
WHATSAPP_CAPTION_MAX = 1024
_MB = 1024 * 1024
WHATSAPP_MEDIA: dict[str, tuple[frozenset[str], int]] = {
    "image": (frozenset({"image/jpeg", "image/png"}), 5 * _MB),
    "video": (frozenset({"video/mp4", "video/3gpp"}), 16 * _MB),
    "audio": (
        frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
        16 * _MB,
    ),
    "sticker": (frozenset({"image/webp"}), 500 * 1024),
    "document": (
        frozenset(
            {
                "text/plain", "text/csv", "application/pdf", "application/msword",
                "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "application/rtf",
            }
        ),
        100 * _MB,
    ),
}  # fmt: skip
# Any file WhatsApp uploads (each up to the document limit) may be sent as a document: a photo or
# a video over its own kind's limit reaches the customer as a file to download.
WHATSAPP_UPLOAD_TYPES = frozenset().union(*(types for types, _size in WHATSAPP_MEDIA.values()))
WHATSAPP_UPLOAD_MAX = 100 * _MB
STATIC_STICKER_MAX = 100 * 1024

# Extensions for object keys written by GetWhatsAppMessageMedia (as AWS's sample expects).
EXTENSIONS = {
    "image/jpeg": ".jpeg", "image/png": ".png", "image/webp": ".webp",
    "video/mp4": ".mp4", "video/3gpp": ".3gp", "audio/ogg": ".ogg", "audio/mpeg": ".mp3",
    "audio/aac": ".aac", "audio/amr": ".amr", "audio/mp4": ".m4a", "application/pdf": ".pdf",
    "text/plain": ".txt", "text/csv": ".csv", "audio/wav": ".wav", "audio/x-wav": ".wav",
}  # fmt: skip

"""Importing this module registers every check family with checks.registry."""
import checks.https  # noqa: F401,E402
import checks.headers  # noqa: F401,E402
import checks.security_txt  # noqa: F401,E402
import checks.tls  # noqa: F401,E402
import checks.dns  # noqa: F401,E402
import checks.ipv6  # noqa: F401,E402
import checks.domain  # noqa: F401,E402
import checks.mail  # noqa: F401,E402
import checks.rpki  # noqa: F401,E402
import checks.privacy  # noqa: F401,E402
import checks.accessibility  # noqa: F401,E402

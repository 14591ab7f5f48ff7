"""Who may act on which account objects (STYLE: ``get_<object>_for_user`` answers 404 for what
the user may not see)."""

from django.http import Http404

from .models import User, UserSession


def get_user_session_for_user(*, user: User, pk: int) -> UserSession:
    """``user``'s own session record ``pk`` (a browser or an API token family); ``Http404`` for
    an unknown one or another gardener's, so ids reveal nothing. One statement."""
    record = UserSession.objects.filter(pk=pk, user=user).first()
    if record is None:
        raise Http404("No such session.")
    return record

"""Creating users with a role."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import transaction

from webapp.accounts.roles import ADMIN_GROUP, INVESTIGATOR_GROUP


@transaction.atomic
def user_create_with_role(*, username: str, password: str, role: str, email: str = "") -> User:
    """Create (or reset the password of) a user with the ``admin`` or ``investigator`` role."""
    if role not in (ADMIN_GROUP, INVESTIGATOR_GROUP):
        raise ValueError(f"unknown role {role!r}")
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.set_password(password)
    user.is_staff = role == ADMIN_GROUP
    user.is_superuser = role == ADMIN_GROUP
    user.is_active = True
    user.save()
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    return user

"""Shapes of cases and memberships in the API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from webapp.cases.models import Case, CaseMember, CaseRole


class CaseMemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    user = serializers.IntegerField(source="user_id", read_only=True)

    class Meta:
        model = CaseMember
        fields = ["user", "username", "role", "added_at"]


class CaseSerializer(serializers.ModelSerializer):
    members = CaseMemberSerializer(many=True, read_only=True)
    my_role = serializers.SerializerMethodField()
    videos = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "title", "reference", "purpose", "status", "retention_until", "created_at", "closed_at",
            "members", "my_role", "videos",
        ]

    def get_my_role(self, case: Case) -> str | None:
        user = self.context["request"].user
        return next((m.role for m in case.members.all() if m.user_id == user.pk), None)

    def get_videos(self, case: Case) -> list[int] | None:
        """The footage ids, for members only (an admin who is not a member sees the case's details)."""
        if self.get_my_role(case) is None:
            return None
        return sorted(link.video_id for link in case.video_links.all())


class CaseCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=64)
    purpose = serializers.CharField(max_length=4000)
    retention_until = serializers.DateField()


class CaseUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    purpose = serializers.CharField(max_length=4000, required=False)
    retention_until = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({sorted(unknown)[0]: "cannot be changed here"})
        return attrs


class CaseStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Case.Status.choices)


class MemberAddSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    role = serializers.ChoiceField(choices=CaseRole.choices)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=CaseRole.choices)


class VideoLinkSerializer(serializers.Serializer):
    video = serializers.IntegerField()


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()

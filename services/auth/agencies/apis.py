from core.openapi import problem_responses
from core.serializers import StrictInputSerializer
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from tokens.permissions import HasAdminRole

from agencies.selectors import agency_client_list
from agencies.services import agency_client_create, agency_client_revoke, agency_token_issue


class AgencyClientOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    provider_id = serializers.UUIDField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class AgencyClientCreatedSerializer(AgencyClientOutputSerializer):
    client_secret = serializers.CharField(help_text="Shown once; only its hash is kept.")


class AgencyClientListApi(APIView):
    permission_classes = (IsAuthenticated, HasAdminRole)

    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=200)
        provider_id = serializers.UUIDField(required=False)

        class Meta:
            ref_name = "AgencyClientInput"

    @extend_schema(
        operation_id="agency_clients_list",
        responses={200: AgencyClientOutputSerializer(many=True), **problem_responses(401, 403)},
        tags=["accounts admin"],
    )
    def get(self, request: Request) -> Response:
        return Response(AgencyClientOutputSerializer(agency_client_list(), many=True).data)

    @extend_schema(
        operation_id="agency_clients_create",
        request=InputSerializer,
        responses={201: AgencyClientCreatedSerializer, **problem_responses(400, 401, 403, 409, 415)},
        tags=["accounts admin"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        client, secret = agency_client_create(**serializer.validated_data, created_by=request.user.id)
        body = {**AgencyClientOutputSerializer(client).data, "client_secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class AgencyClientDetailApi(APIView):
    permission_classes = (IsAuthenticated, HasAdminRole)

    @extend_schema(
        operation_id="agency_clients_revoke",
        responses={204: None, **problem_responses(401, 403, 404)},
        tags=["accounts admin"],
    )
    def delete(self, request: Request, client_id) -> Response:
        agency_client_revoke(client_id=client_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgencyTokenOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()


class AgencyTokenApi(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()

    class InputSerializer(StrictInputSerializer):
        client_id = serializers.CharField(max_length=64)
        client_secret = serializers.CharField(max_length=200)

        class Meta:
            ref_name = "AgencyTokenInput"

    @extend_schema(
        operation_id="agency_token",
        request=InputSerializer,
        responses={200: AgencyTokenOutputSerializer, **problem_responses(400, 401, 415)},
        tags=["auth"],
        description="Client credentials of an agency client → an access token (role `agency`, "
        "`provider_id`) for the MDS Provider API. No refresh token: ask again.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = agency_token_issue(**serializer.validated_data)
        return Response({"access": token.access, "token_type": "Bearer", "expires_in": token.expires_in})

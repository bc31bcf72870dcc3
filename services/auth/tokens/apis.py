from core.client_ip import client_ip_get
from core.openapi import problem_responses
from core.serializers import StrictInputSerializer
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tokens.selectors import jwks_get
from tokens.services import TokenPair, token_logout, token_obtain, token_refresh


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Access token lifetime in seconds")

    class Meta:
        ref_name = "TokenPair"


def _pair_response(pair: TokenPair) -> Response:
    response = Response(TokenPairOutputSerializer(pair).data)
    response["Cache-Control"] = "no-store"
    return response


class _Public(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)


class TokenObtainApi(_Public):
    class InputSerializer(StrictInputSerializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

        class Meta:
            ref_name = "TokenObtainInput"

    @extend_schema(
        operation_id="token_obtain",
        request=InputSerializer,
        responses={200: TokenPairOutputSerializer, **problem_responses(400, 401, 403, 415, 429)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = token_obtain(**serializer.validated_data, client_ip=client_ip_get(request=request))
        return _pair_response(pair)


class TokenRefreshApi(_Public):
    class InputSerializer(StrictInputSerializer):
        refresh = serializers.CharField(max_length=512)

        class Meta:
            ref_name = "TokenRefreshInput"

    @extend_schema(
        operation_id="token_refresh",
        request=InputSerializer,
        responses={200: TokenPairOutputSerializer, **problem_responses(400, 401, 415)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _pair_response(token_refresh(refresh=serializer.validated_data["refresh"]))


class LogoutApi(_Public):
    class InputSerializer(StrictInputSerializer):
        refresh = serializers.CharField(max_length=512)

        class Meta:
            ref_name = "LogoutInput"

    @extend_schema(
        operation_id="logout",
        request=InputSerializer,
        responses={
            204: OpenApiResponse(description="The refresh token's family is revoked"),
            **problem_responses(400, 401, 415),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token_logout(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class JwksApi(_Public):
    @extend_schema(
        operation_id="jwks",
        responses={
            200: inline_serializer(
                "Jwks",
                fields={
                    "keys": serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
                },
            )
        },
        auth=[],
        tags=["auth"],
    )
    def get(self, request: Request) -> Response:
        response = Response(jwks_get())
        response["Cache-Control"] = "public, max-age=300"
        return response

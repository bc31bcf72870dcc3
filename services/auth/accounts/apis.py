"""HTTP for accounts: each view validates input, calls one service or selector, serializes."""

from core.client_ip import client_ip_get
from core.exceptions import ApplicationError, NotFound, TokenInvalid, ValidationFailed
from core.openapi import problem_responses
from core.pagination import StableCursorPagination
from core.serializers import StrictInputSerializer
from django.http import HttpResponse
from django.template.loader import render_to_string
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from tokens.permissions import HasAdminRole

from accounts.emails import RESET_PATH
from accounts.selectors import user_get, user_list
from accounts.services import (
    user_email_verify,
    user_password_change,
    user_password_reset_confirm,
    user_password_reset_request,
    user_profile_update,
    user_register,
    user_set_active,
    user_verification_resend,
)


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()
    is_active = serializers.BooleanField()
    email_verified = serializers.BooleanField()
    roles = serializers.ListField(child=serializers.CharField())
    date_joined = serializers.DateTimeField()

    class Meta:
        ref_name = "User"


class _Public(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)


class RegisterApi(_Public):
    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=150, trim_whitespace=True)
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)

        class Meta:
            ref_name = "RegisterInput"

    @extend_schema(
        operation_id="register",
        request=InputSerializer,
        description=(
            "Answers 201 with the same body shape whether or not the address already has an account "
            "(then the body describes no stored account and its owner gets a mail instead)."
        ),
        responses={201: UserOutputSerializer, **problem_responses(400, 415, 429)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data, client_ip=client_ip_get(request=request))
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class VerifyApi(_Public):
    class FilterSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=2048)

    class OutputSerializer(serializers.Serializer):
        status = serializers.CharField()
        email = serializers.EmailField()
        email_verified = serializers.BooleanField()

        class Meta:
            ref_name = "VerifyResult"

    @extend_schema(
        operation_id="verify_email",
        parameters=[
            OpenApiParameter("token", str, required=True, description="Token from the confirmation mail")
        ],
        responses={200: OutputSerializer, **problem_responses(400)},
        auth=[],
        tags=["auth"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        user = user_email_verify(token=filters.validated_data["token"])
        result = {"status": "verified", "email": user.email, "email_verified": user.email_verified}
        return Response(self.OutputSerializer(result).data)


class VerifyResendApi(_Public):
    class InputSerializer(StrictInputSerializer):
        email = serializers.EmailField(max_length=254)

        class Meta:
            ref_name = "VerifyResendInput"

    @extend_schema(
        operation_id="verify_resend",
        request=InputSerializer,
        responses={
            202: OpenApiResponse(
                description="A new link was sent if the address belongs to an unconfirmed account"
            ),
            **problem_responses(400, 415, 429),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_verification_resend(
            email=serializer.validated_data["email"], client_ip=client_ip_get(request=request)
        )
        return Response(status=status.HTTP_202_ACCEPTED)


class MeApi(APIView):
    permission_classes = (IsAuthenticated,)

    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=150, trim_whitespace=True)

        class Meta:
            ref_name = "ProfileUpdateInput"

    @extend_schema(
        operation_id="me", responses={200: UserOutputSerializer, **problem_responses(401)}, tags=["auth"]
    )
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(
        operation_id="me_update",
        request=InputSerializer,
        responses={200: UserOutputSerializer, **problem_responses(400, 401, 415)},
        tags=["auth"],
    )
    def patch(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_profile_update(user=request.user, name=serializer.validated_data["name"])
        return Response(UserOutputSerializer(user).data)


class PasswordChangeApi(APIView):
    permission_classes = (IsAuthenticated,)

    class InputSerializer(StrictInputSerializer):
        old_password = serializers.CharField(max_length=128, trim_whitespace=False)
        new_password = serializers.CharField(max_length=128, trim_whitespace=False)

        class Meta:
            ref_name = "PasswordChangeInput"

    @extend_schema(
        operation_id="password_change",
        request=InputSerializer,
        responses={
            204: OpenApiResponse(description="Changed; every refresh token of the user is revoked"),
            **problem_responses(400, 401, 415, 429),
        },
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_password_change(
            user=request.user, **serializer.validated_data, client_ip=client_ip_get(request=request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetApi(_Public):
    class InputSerializer(StrictInputSerializer):
        email = serializers.EmailField(max_length=254)

        class Meta:
            ref_name = "PasswordResetInput"

    class OutputSerializer(serializers.Serializer):
        status = serializers.CharField()
        detail = serializers.CharField()

        class Meta:
            ref_name = "PasswordResetAccepted"

    ACCEPTED = {
        "status": "accepted",
        "detail": "If the address belongs to an account, a reset link is on its way; it works once "
        "and expires soon.",
    }

    @extend_schema(
        operation_id="password_reset",
        request=InputSerializer,
        description="Always 202 with the same body, whether or not the address has an account.",
        responses={202: OutputSerializer, **problem_responses(400, 415, 429)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_password_reset_request(
            email=serializer.validated_data["email"], client_ip=client_ip_get(request=request)
        )
        return Response(self.OutputSerializer(self.ACCEPTED).data, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(_Public):
    """JSON for apps (POST → 204); the mailed link opens an HTML form here (GET) that posts back as
    a form. The HTML side answers like a Django form: 200 with the page, errors shown on it."""

    parser_classes = (JSONParser, FormParser)

    class InputSerializer(StrictInputSerializer):
        token = serializers.CharField(max_length=2048)
        new_password = serializers.CharField(max_length=128, trim_whitespace=False)

        class Meta:
            ref_name = "PasswordResetConfirmInput"

    class FilterSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=2048)

    @staticmethod
    def _page(request: Request, **context) -> HttpResponse:
        context.setdefault("action", RESET_PATH)
        response = HttpResponse(
            render_to_string("accounts/password_reset_confirm.html", context, request=request._request),
            content_type="text/html; charset=utf-8",
        )
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"  # the token is in the URL
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
        )
        return response

    @extend_schema(
        operation_id="password_reset_form",
        parameters=[OpenApiParameter("token", str, required=True, description="Token from the reset mail")],
        responses={
            (200, "text/html"): OpenApiResponse(description="A form to choose the new password"),
            **problem_responses(400),
        },
        auth=[],
        tags=["auth"],
    )
    def get(self, request: Request) -> HttpResponse:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return self._page(request, token=filters.validated_data["token"], show_form=True)

    @extend_schema(
        operation_id="password_reset_confirm",
        request={"application/json": InputSerializer},
        responses={
            204: OpenApiResponse(description="Password set; every refresh token of the user is revoked"),
            **problem_responses(400, 415),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response | HttpResponse:
        if request.content_type.startswith("application/x-www-form-urlencoded"):
            return self._form_post(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _form_post(self, request: Request) -> HttpResponse:
        token = str(request.data.get("token", ""))[:2048]
        password = str(request.data.get("new_password", ""))
        if not token:
            return self._page(request, errors=["The link is incomplete."], show_form=False)
        if not password or password != request.data.get("new_password_again"):
            return self._page(request, token=token, show_form=True, errors=["The two passwords differ."])
        if len(password) > 128:
            return self._page(request, token=token, show_form=True, errors=["The password is too long."])
        try:
            user_password_reset_confirm(token=token, new_password=password)
        except TokenInvalid as exc:
            return self._page(request, errors=[exc.detail], show_form=False)
        except ValidationFailed as exc:
            messages = [m for field in (exc.errors or {}).values() for m in field] or [exc.detail]
            return self._page(request, token=token, show_form=True, errors=messages)
        except ApplicationError as exc:
            return self._page(request, errors=[exc.detail], show_form=False)
        return self._page(request, done=True)


class UserListApi(APIView):
    permission_classes = (IsAuthenticated, HasAdminRole)

    class Pagination(StableCursorPagination):
        pass

    class FilterSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254, required=False, allow_blank=True)

    @extend_schema(
        operation_id="users_list",
        parameters=[
            OpenApiParameter("email", str, description="Case-insensitive substring of the email"),
            OpenApiParameter("cursor", str, description="Opaque cursor from next/previous"),
            OpenApiParameter("page_size", int, description="1..100 (default 20)"),
        ],
        responses={200: UserOutputSerializer(many=True), **problem_responses(400, 401, 403)},
        tags=["accounts admin"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.Pagination()
        page = paginator.paginate_queryset(
            user_list(email=filters.validated_data.get("email")), request, view=self
        )
        return paginator.get_paginated_response(UserOutputSerializer(page, many=True).data)


class UserDetailApi(APIView):
    permission_classes = (IsAuthenticated, HasAdminRole)

    class InputSerializer(StrictInputSerializer):
        is_active = serializers.BooleanField()

        class Meta:
            ref_name = "UserActiveInput"

    @extend_schema(
        operation_id="users_retrieve",
        responses={200: UserOutputSerializer, **problem_responses(401, 403, 404)},
        tags=["accounts admin"],
    )
    def get(self, request: Request, user_id) -> Response:
        user = user_get(user_id=user_id)
        if user is None:
            raise NotFound("No such user.")
        return Response(UserOutputSerializer(user).data)

    @extend_schema(
        operation_id="users_set_active",
        request=InputSerializer,
        responses={200: UserOutputSerializer, **problem_responses(400, 401, 403, 404, 409, 415)},
        tags=["accounts admin"],
    )
    def patch(self, request: Request, user_id) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_set_active(
            user_id=user_id, is_active=serializer.validated_data["is_active"], actor=request.user
        )
        return Response(UserOutputSerializer(user).data)

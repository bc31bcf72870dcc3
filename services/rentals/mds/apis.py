"""MDS 2.0 Provider endpoints for agencies (cities): `/mds/...`, described by the official
`contracts/mds-openapi/reference/provider.yaml` (not by rentals' own OpenAPI schema).

Every answer needs an agency token of a client auth has not revoked (core.permissions.IsAgency) and `Accept:
application/vnd.mds+json;version=2.0` (406 otherwise); each agency client gets MDS_RATE_PER_SECOND with bursts
of MDS_RATE_BURST (mds.throttles, 429 beyond). Errors are problem+json like everywhere else."""

import csv
import datetime as dt
import io
import re
import uuid

from core.exceptions import ApplicationError, NotFound, ValidationFailed
from core.permissions import IsAgency
from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from mds import clock, selectors
from mds.throttles import AgencyRateThrottle

MDS_MEDIA_TYPE = "application/vnd.mds+json"
MDS_CONTENT_TYPE = f"{MDS_MEDIA_TYPE};version=2.0"
_HOUR_PATTERN = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})$")
# At most 13 digits: milliseconds up to the year 2286 (more would overflow a datetime, not be a 400).
_MS_PATTERN = re.compile(r"^\d{1,13}$")


class NotAcceptableVersion(ApplicationError):
    status = 406
    slug = "not-acceptable"
    title = "Not acceptable"


class MdsRenderer(JSONRenderer):
    media_type = MDS_MEDIA_TYPE
    format = "mds"


def accepts_mds_2_0(header: str) -> bool:
    """True when one of the Accept header's media ranges is the MDS type with version 2.0."""
    for media_range in header.split(","):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        if media_type.lower() != MDS_MEDIA_TYPE:
            continue
        values = dict(param.partition("=")[::2] for param in params)
        if values.get("version", "").strip().strip('"') == "2.0":
            return True
    return False


def parse_hour(value: str | None, *, name: str) -> dt.datetime:
    match = _HOUR_PATTERN.match(value or "")
    if match is None:
        raise ValidationFailed(f"{name} must be an UTC hour YYYY-MM-DDTHH.", errors={name: ["Invalid hour."]})
    try:
        return dt.datetime(*map(int, match.groups()), tzinfo=dt.UTC)
    except ValueError:
        raise ValidationFailed(f"{name} is not a real hour.", errors={name: ["Invalid hour."]})


def parse_ms(value: str | None, *, name: str) -> dt.datetime:
    if value is None or not _MS_PATTERN.match(value):
        raise ValidationFailed(
            f"{name} must be milliseconds since the Unix epoch.", errors={name: ["Invalid timestamp."]}
        )
    return selectors.from_ms(int(value))


def parse_uuid(value: str, *, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"{name} must be a UUID.", errors={name: ["Invalid UUID."]})


class MdsApi(APIView):
    permission_classes = [IsAgency]
    throttle_classes = [AgencyRateThrottle]
    renderer_classes = [MdsRenderer]
    schema = None  # described by the official provider.yaml, not by rentals' schema

    def perform_content_negotiation(self, request, force=False):
        # The Accept check is ours (after authentication, see initial): DRF's would accept */*.
        return MdsRenderer(), MDS_MEDIA_TYPE

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not accepts_mds_2_0(request.META.get("HTTP_ACCEPT", "")):
            raise NotAcceptableVersion(
                f"Send 'Accept: {MDS_CONTENT_TYPE}'; this provider serves MDS 2.0 only."
            )

    @staticmethod
    def answer(body: dict, *, status: int = 200) -> Response:
        return Response(
            {"version": selectors.MDS_VERSION, **body}, status=status, content_type=MDS_CONTENT_TYPE
        )

    @staticmethod
    def realtime(body: dict) -> Response:
        now = selectors.ms(clock.now())
        return MdsApi.answer({"last_updated": now, "ttl": 0, **body})

    def hourly(self, *, start: dt.datetime, key: str, rows) -> Response:
        """The hourly rule: a future hour 404, an hour not closed yet 202, a closed one 200 (maybe empty)."""
        state = selectors.mds_hour_state(start=start)
        if state.future:
            raise NotFound("This hour has not begun yet.")
        if not state.closed:
            return self.answer({"detail": "This hour is not closed yet; ask again later."}, status=202)
        return self.answer({key: rows(start, start + selectors.HOUR)})


class VehiclesApi(MdsApi):
    def get(self, request, device_id: str | None = None):
        if device_id is None:
            return self.realtime({"vehicles": selectors.mds_vehicles()})
        vehicles = selectors.mds_vehicles(device_id=parse_uuid(device_id, name="device_id"))
        if not vehicles:
            raise NotFound("Vehicle not found.")
        return self.realtime({"vehicles": vehicles})


class VehiclesStatusApi(MdsApi):
    def get(self, request, device_id: str | None = None):
        if device_id is None:
            return self.realtime({"vehicles_status": selectors.mds_vehicles_status()})
        statuses = selectors.mds_vehicles_status(device_id=parse_uuid(device_id, name="device_id"))
        if not statuses:
            raise NotFound("Vehicle not found (or its position was never known).")
        return self.realtime({"vehicles_status": statuses})


class TripsApi(MdsApi):
    def get(self, request):
        start = parse_hour(request.query_params.get("end_time"), name="end_time")
        return self.hourly(
            start=start,
            key="trips",
            rows=lambda begin, end: selectors.mds_trips_ended_between(start=begin, end=end),
        )


class EventsHistoricalApi(MdsApi):
    def get(self, request):
        start = parse_hour(request.query_params.get("event_time"), name="event_time")
        return self.hourly(
            start=start,
            key="events",
            rows=lambda begin, end: selectors.mds_events_between(start=begin, end=end),
        )


class EventsRecentApi(MdsApi):
    def get(self, request):
        start = parse_ms(request.query_params.get("start_time"), name="start_time")
        end = parse_ms(request.query_params.get("end_time"), name="end_time")
        if start < clock.now() - selectors.RECENT_MAX_AGE:
            raise ValidationFailed(
                "start_time is more than two weeks ago; use /mds/events/historical.",
                errors={"start_time": ["At most two weeks back."]},
            )
        if end < start:
            raise ValidationFailed(
                "end_time is before start_time.", errors={"end_time": ["Before start_time."]}
            )
        return self.answer({"events": selectors.mds_events_between(start=start, end=end)})


class StopsApi(MdsApi):
    def get(self, request, stop_id: str | None = None):
        if stop_id is None:
            return self.realtime({"stops": selectors.mds_stops()})
        stops = selectors.mds_stops(stop_id=parse_uuid(stop_id, name="stop_id"))
        if not stops:
            raise NotFound("Stop not found.")
        return self.realtime({"stops": stops})


class ReportApi(MdsApi):
    """`/mds/reports/YYYY-MM.csv`: a finished month's report as CSV (provider.yaml lists no 406 for it, so any
    Accept header gets the CSV). The current and future months are 404 (not produced yet)."""

    def initial(self, request, *args, **kwargs):
        APIView.initial(self, request, *args, **kwargs)

    def get(self, request, year: str, month: str):
        try:
            month_start = dt.datetime(int(year), int(month), 1, tzinfo=dt.UTC)
        except ValueError:
            raise NotFound("No such report.")
        next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
        if next_month > clock.now():
            raise NotFound("This month's report is made once the month is over.")
        body = io.StringIO()
        writer = csv.writer(body, lineterminator="\n")
        writer.writerow(selectors.REPORT_COLUMNS)
        writer.writerows(selectors.mds_month_report_rows(month_start=month_start, month_end=next_month))
        return HttpResponse(body.getvalue(), content_type="text/csv; charset=utf-8")

from django.contrib.admin.apps import AdminConfig


class VeloAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.VeloAdminSite"

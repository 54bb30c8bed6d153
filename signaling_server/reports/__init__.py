"""Reports: contact-center figures from the stored record (figures.py), and CSV (csv.py)."""

from .csv import report_csv
from .figures import MAX_BUCKETS, Bucket, Report, ReportQuery, Reports, bucket_count

__all__ = ["MAX_BUCKETS", "Bucket", "Report", "ReportQuery", "Reports", "bucket_count", "report_csv"]

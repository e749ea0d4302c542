with alerts as ({{ newest_extraction(source('tap_events', 'twilio_monitor_alerts'), 'sid', [
    'sid', 'account_sid', 'date_created', 'date_generated', 'date_updated', 'error_code', 'log_level', 'alert_text', 'more_info', 'request_method', 'request_url', 'resource_sid', 'service_sid', 'api_version', 'url',
]) }})

select
    sid,
    account_sid,
    cast(date_created as {{ dbt.type_timestamp() }}) as date_created,
    cast(date_generated as {{ dbt.type_timestamp() }}) as date_generated,
    cast(date_updated as {{ dbt.type_timestamp() }}) as date_updated,
    error_code,
    log_level,
    alert_text,
    more_info,
    request_method,
    request_url,
    resource_sid,
    service_sid,
    api_version,
    url,
    cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
from alerts

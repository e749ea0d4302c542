with logs as ({{ newest_extraction(source('tap_events', 'twilio_serverless_logs'), 'sid', [
    'sid', 'account_sid', 'service_sid', 'environment_sid', 'function_sid', 'build_sid', 'deployment_sid', 'request_sid', 'date_created', 'level', 'message', 'url',
]) }})

select
    sid,
    account_sid,
    service_sid,
    environment_sid,
    function_sid,
    build_sid,
    deployment_sid,
    request_sid,
    cast(date_created as {{ dbt.type_timestamp() }}) as date_created,
    level,
    message,
    url,
    cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
from logs

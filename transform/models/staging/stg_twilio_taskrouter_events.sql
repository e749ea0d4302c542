with events as ({{ newest_extraction(source('tap_events', 'twilio_taskrouter_events'), 'sid', [
    'sid', 'account_sid', 'workspace_sid', 'event_date', 'event_type', 'resource_type', 'resource_sid', 'actor_sid', 'actor_type', 'source', 'source_ip_address', 'description', 'event_data', 'url', 'actor_url', 'resource_url', 'event_date_ms',
]) }})

select
    sid,
    account_sid,
    workspace_sid,
    cast(event_date as {{ dbt.type_timestamp() }}) as event_date,
    event_type,
    resource_type,
    resource_sid,
    actor_sid,
    actor_type,
    source,
    source_ip_address,
    description,
    {{ as_json('event_data') }} as event_data,
    url,
    actor_url,
    resource_url,
    cast(event_date_ms as {{ dbt.type_bigint() }}) as event_date_ms,
    cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
from events

with events as ({{ newest_extraction(source('tap_events', 'telnyx_audit_events'), 'id', [
    'id', 'organization_id', 'created_at', 'change_type', 'change_made_by', 'user_id', 'record_type', 'resource_id', 'alternate_resource_id', 'changes',
]) }})

select
    id,
    organization_id,
    cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
    change_type,
    change_made_by,
    user_id,
    record_type,
    resource_id,
    alternate_resource_id,
    {{ json_array_or_empty('changes') }} as changes,
    cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
from events

{#- An hour in which one account raised at least `alert_surge_min_alerts` alerts of one error code,
    and at least `alert_surge_factor` times that code's hourly average over the
    `alert_surge_baseline_hours` before it (hours without alerts count as zero). Only hours with a
    full baseline count: the account raised some alert at least that long before (a new error code
    on an account with history has a baseline of zero). One finding per account, error code and hour. -#}
{%- set baseline_hours = var('alert_surge_baseline_hours') -%}

with hourly as (
    select
        account_id,
        event_type as error_code,
        {{ dbt.date_trunc('hour', 'occurred_at') }} as hour_start,
        count(*) as alerts
    from {{ ref('activity') }}
    where category = 'alert'
    group by 1, 2, 3
),

with_baseline as (
    select
        hour.account_id,
        hour.error_code,
        hour.hour_start,
        hour.alerts,
        cast(coalesce(sum(before.alerts), 0) as {{ dbt.type_float() }}) / {{ baseline_hours }} as baseline_per_hour
    from hourly as hour
    left join hourly as before
        on before.account_id = hour.account_id
        and before.error_code = hour.error_code
        and before.hour_start >= {{ dbt.dateadd('hour', -baseline_hours, 'hour.hour_start') }}
        and before.hour_start < hour.hour_start
    group by 1, 2, 3, 4
)

select
    account_id || ':' || error_code || ':' || cast(hour_start as {{ dbt.type_string() }}) as finding_key,
    hour_start as detected_at,
    'twilio' as provider,
    account_id,
    error_code,
    hour_start,
    alerts,
    baseline_per_hour
from with_baseline
where exists (
    select 1 from hourly as history
    where history.account_id = with_baseline.account_id
      and history.hour_start <= {{ dbt.dateadd('hour', -baseline_hours, 'with_baseline.hour_start') }}
)
and alerts >= {{ var('alert_surge_min_alerts') }}
  and alerts >= {{ var('alert_surge_factor') }} * baseline_per_hour

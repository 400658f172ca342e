-- Credits added to a wallet (purchased or granted), already floored to 5 decimals by the
-- catalog loader as Lago does; created_at in UTC (a bare date is 00:00 UTC).
with source as (
    select * from {{ source('catalog', 'wallet_transactions') }}
),

final as (
    select
        wallet_id,
        {{ tally.to_num('credits') }} as credits,
        kind,
        {{ tally.utc_date_or_timestamp('created_at') }} as created_at,
        line_number
    from source
)

select * from final

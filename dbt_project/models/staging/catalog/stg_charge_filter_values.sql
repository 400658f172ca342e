select charge_id, filter_index, filter_key, filter_value
from {{ source('catalog', 'charge_filter_values') }}

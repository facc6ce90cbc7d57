/* Searchable selects that offer only what one owner may choose (a campaign's template and import).
 *
 * A select marked data-owner-from="id_owner" asks the admin's autocomplete for that select's owner's rows
 * (the server narrows them: inboxerr.admin.ModelAdmin.get_search_results), and is emptied when the owner
 * changes; data-owner="12" names a fixed owner (a saved campaign's). Runs after Django's autocomplete.js
 * has set the selects up (ready handlers run in the order they were added).
 */
"use strict";
{
    const $ = django.jQuery;

    function ownerOf(element) {
        if (element.dataset.owner) {
            return element.dataset.owner;
        }
        const owner = document.getElementById(element.dataset.ownerFrom);
        return owner ? owner.value : "";
    }

    $(function () {
        $("select[data-owner-from], select[data-owner]").each(function () {
            const element = this;
            const select2 = $(element).data("select2");
            if (!select2) {
                return;
            }
            const options = select2.dataAdapter.ajaxOptions;
            const djangoData = options.data;
            options.data = function (params) {
                return Object.assign(djangoData.call(this, params), {owner: ownerOf(element)});
            };
            const owner = document.getElementById(element.dataset.ownerFrom);
            if (owner) {
                $(owner).on("change", function () {
                    $(element).val(null).trigger("change");
                });
            }
        });
    });
}

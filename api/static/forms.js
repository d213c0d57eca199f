/* placeholder: filled by the site work on issue 18 */
